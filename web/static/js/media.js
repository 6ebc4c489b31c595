// Photos and voice notes in the browser: photos are downscaled on a canvas before upload (phone cameras make
// 12-megapixel files; the server needs far less), voice notes are recorded with MediaRecorder.

export const MAX_IMAGE_SIDE = 1600;
const KEEP_AS_IS_BYTES = 1.5 * 1024 * 1024;
const KEEP_AS_IS_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);
export const MAX_VOICE_SECONDS = 120;

/**
 * The photo to send: the file itself when it is already small, else a JPEG no larger than MAX_IMAGE_SIDE on
 * its longest side. Resolves to {blob, filename, width, height, originalWidth, originalHeight}.
 */
export async function prepareImage(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    throw new Error("That file is not a picture this browser can read. Try a JPEG or PNG photo.");
  }
  const { width, height } = bitmap;
  const scale = Math.min(1, MAX_IMAGE_SIDE / Math.max(width, height));
  if (scale === 1 && file.size <= KEEP_AS_IS_BYTES && KEEP_AS_IS_TYPES.has(file.type)) {
    bitmap.close();
    return { blob: file, filename: file.name || "photo", width, height, originalWidth: width, originalHeight: height };
  }
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d");
  context.fillStyle = "#ffffff"; // transparent PNGs get a white background instead of black in JPEG
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("The photo could not be prepared."))), "image/jpeg", 0.9),
  );
  const base = (file.name || "photo").replace(/\.[^.]+$/, "");
  return {
    blob,
    filename: `${base}.jpg`,
    width: canvas.width,
    height: canvas.height,
    originalWidth: width,
    originalHeight: height,
  };
}

const RECORDING_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm", "audio/mp4"];

/** A voice note from the microphone. start() asks for permission; stop() resolves to {blob, filename, seconds}. */
export class VoiceRecorder {
  static supported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
  }

  constructor({ onTick, onLimit } = {}) {
    this.onTick = onTick;
    this.onLimit = onLimit;
    this.recorder = null;
    this.stream = null;
    this.chunks = [];
    this.timer = null;
    this.startedAt = 0;
  }

  get recording() {
    return this.recorder !== null && this.recorder.state === "recording";
  }

  async start() {
    try {
      // Speech recognition does better on the plain signal than on the browser's call-oriented processing
      // (noise suppression and echo cancellation smear consonants); gain control still evens out the level.
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: true },
      });
    } catch {
      throw new Error("The microphone is not available. Allow it in the browser, or attach an audio file instead.");
    }
    const mimeType = RECORDING_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    this.recorder = new MediaRecorder(this.stream, mimeType ? { mimeType } : undefined);
    this.chunks = [];
    this.recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size > 0) this.chunks.push(event.data);
    });
    this.recorder.start();
    this.startedAt = performance.now();
    this.timer = window.setInterval(() => {
      const seconds = this.elapsed();
      if (this.onTick) this.onTick(seconds);
      if (seconds >= MAX_VOICE_SECONDS && this.onLimit) this.onLimit();
    }, 250);
  }

  elapsed() {
    return (performance.now() - this.startedAt) / 1000;
  }

  stop() {
    return new Promise((resolve) => {
      const recorder = this.recorder;
      const seconds = this.elapsed();
      recorder.addEventListener(
        "stop",
        () => {
          const type = recorder.mimeType || "audio/webm";
          const extension = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
          const blob = new Blob(this.chunks, { type: type.split(";")[0] });
          this.release();
          resolve({ blob, filename: `voice-note.${extension}`, seconds });
        },
        { once: true },
      );
      recorder.stop();
    });
  }

  cancel() {
    if (this.recorder && this.recorder.state !== "inactive") this.recorder.stop();
    this.release();
  }

  release() {
    window.clearInterval(this.timer);
    this.timer = null;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.recorder = null;
  }
}

export function formatSeconds(seconds) {
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
