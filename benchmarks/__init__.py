"""Quality and speed benchmarks over the data in ../shared/data, each printed beside its baseline measured in
the same run. Run them with ``bindesk eval SUITE``; results are recorded in benchmarks/RESULTS.md."""
