"""The outbox and the bucket: the uploader, ordering, retries, safe mode and the r2 tools."""
