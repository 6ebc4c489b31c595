// What the customer attaches before sending: one photo (shrunk in the browser, previewed) and one voice note
// (recorded with the microphone or picked as a file, playable before sending).

import { h, icon, replaceChildren } from "./dom.js";
import { MAX_VOICE_SECONDS, VoiceRecorder, formatSeconds, prepareImage } from "./media.js";

export class Attachments {
  /**
   * el: {attachments, photoButton, photoInput, audioButton, audioInput, recordButton, recordTime}.
   * onError(error or message) shows a problem; announce(text) tells screen-reader users what happened.
   */
  constructor(el, { onError, announce }) {
    this.el = el;
    this.onError = onError;
    this.announce = announce;
    this.photo = null; // {blob, filename, url, width, height, originalWidth, originalHeight}
    this.audio = null; // {blob, filename, url, seconds?}
    this.recorder = null;
    el.photoButton.addEventListener("click", () => el.photoInput.click());
    el.audioButton.addEventListener("click", () => el.audioInput.click());
    el.photoInput.addEventListener("change", () => this.choosePhoto());
    el.audioInput.addEventListener("change", () => this.chooseAudio());
    el.recordButton.addEventListener("click", () => this.toggleRecording());
    if (!VoiceRecorder.supported()) el.recordButton.hidden = true;
  }

  /** The attachments to send now; the composer is cleared (call restore() if sending fails). */
  async take() {
    if (this.recorder && this.recorder.recording) await this.stopRecording();
    const taken = { photo: this.photo, audio: this.audio };
    this.photo = null;
    this.audio = null;
    this.render();
    return taken;
  }

  restore({ photo, audio }) {
    this.photo = photo;
    this.audio = audio;
    this.render();
  }

  /** Free the preview URLs of attachments that have been sent. */
  static release({ photo, audio }) {
    revoke(photo);
    revoke(audio);
  }

  async choosePhoto() {
    const file = this.el.photoInput.files && this.el.photoInput.files[0];
    this.el.photoInput.value = "";
    if (!file) return;
    this.onError("");
    try {
      const prepared = await prepareImage(file);
      revoke(this.photo);
      this.photo = { ...prepared, url: URL.createObjectURL(prepared.blob) };
      this.render();
    } catch (error) {
      this.onError(error);
    }
  }

  chooseAudio() {
    const file = this.el.audioInput.files && this.el.audioInput.files[0];
    this.el.audioInput.value = "";
    if (!file) return;
    if (file.type && !file.type.startsWith("audio/") && !file.type.startsWith("video/")) {
      this.onError("That file is not an audio recording.");
      return;
    }
    revoke(this.audio);
    this.audio = { blob: file, filename: file.name || "audio", url: URL.createObjectURL(file) };
    this.render();
  }

  async toggleRecording() {
    if (this.recorder && this.recorder.recording) {
      await this.stopRecording();
      return;
    }
    this.onError("");
    const recorder = new VoiceRecorder({
      onTick: (seconds) => (this.el.recordTime.textContent = formatSeconds(seconds)),
      onLimit: () => this.stopRecording(),
    });
    try {
      await recorder.start();
    } catch (error) {
      this.onError(error);
      return;
    }
    this.recorder = recorder;
    this.el.recordButton.dataset.recording = "true";
    this.el.recordButton.lastChild.textContent = "Stop recording";
    this.el.recordTime.textContent = "0:00";
    this.el.recordTime.hidden = false;
    this.announce(`Recording. Press Stop recording when you are done (up to ${MAX_VOICE_SECONDS / 60} minutes).`);
  }

  async stopRecording() {
    const recorder = this.recorder;
    if (!recorder || !recorder.recording) return;
    this.recorder = null;
    const note = await recorder.stop();
    delete this.el.recordButton.dataset.recording;
    this.el.recordButton.lastChild.textContent = "Voice note";
    this.el.recordTime.hidden = true;
    revoke(this.audio);
    this.audio = { ...note, url: URL.createObjectURL(note.blob) };
    this.render();
    this.announce(`Voice note recorded, ${formatSeconds(note.seconds)}. Press Send to send it.`);
  }

  render() {
    const chips = [];
    if (this.photo) chips.push(this.photoChip());
    if (this.audio) chips.push(this.audioChip());
    replaceChildren(this.el.attachments, chips);
    this.el.attachments.hidden = chips.length === 0;
  }

  photoChip() {
    const { url, width, height, originalWidth, originalHeight } = this.photo;
    const resized = originalWidth !== width ? `resized from ${originalWidth}×${originalHeight}` : "ready to send";
    return h(
      "div",
      { class: "attachment attachment-photo" },
      h("img", { src: url, alt: "Preview of the photo to send" }),
      h("span", { class: "attachment-name" }, h("strong", {}, `Photo ${width}×${height}`), h("span", { class: "attachment-sub" }, resized)),
      removeButton("Remove photo", () => {
        revoke(this.photo);
        this.photo = null;
        this.render();
        this.el.photoButton.focus();
      }),
    );
  }

  audioChip() {
    const length = this.audio.seconds ? formatSeconds(this.audio.seconds) : "ready to send";
    return h(
      "div",
      { class: "attachment attachment-audio" },
      h("audio", { controls: true, src: this.audio.url, "aria-label": "Preview of the voice note to send" }),
      h("span", { class: "attachment-name" }, h("strong", {}, this.audio.filename), h("span", { class: "attachment-sub" }, length)),
      removeButton("Remove voice note", () => {
        revoke(this.audio);
        this.audio = null;
        this.render();
        this.el.recordButton.focus();
      }),
    );
  }
}

function removeButton(label, onclick) {
  return h("button", { class: "icon-button attachment-remove", type: "button", "aria-label": label, onclick }, icon("close"));
}

function revoke(attachment) {
  if (attachment && attachment.url) URL.revokeObjectURL(attachment.url);
}
