"""The publish worker: publish jobs in, web files, names and the gallery manifest out, sync enqueued."""
