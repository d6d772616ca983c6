"""The HTTP layer: pure request building and answer decoding, one I/O seam, the retry loop.

- ``wire``: build a request from a call; decode ``(status, headers, body)`` into JSON or a
  typed error. Pure.
- ``sse``: decode server-sent frames from bytes; know each API's final frame. Pure.
- ``decoding``: undo an answer's Content-Encoding a bounded piece at a time. Pure.
- ``requester``: the one place that does network I/O (the httpx adapter), bounded in size;
  ``aiohttp_requester``: the same seam over aiohttp (``http_backend="aiohttp"``).
- ``retrying``: the retry loop, the deadlines and the rate-limit slot of each attempt.
- ``streams``: frames of a streamed answer (and file bodies), bounded in time, released even
  when dropped.
"""
