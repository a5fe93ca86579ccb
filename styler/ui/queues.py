"""The queues events wait in. Every event that runs the optimizer (Quality, Continue,
Refine, batch, fusion, API calls) shares one concurrency group, ENGINE, limited to
`Services.concurrency` jobs, so waiting users queue and see their place; Fast and Instant
jobs (about a second) have groups of their own, so they never wait behind a Quality run;
whole video clips (long like Quality) queue in a group of their own too, and so do live
cameras (a stream holds its slot until it stops or runs out of time)."""

ENGINE = "engine"  # the concurrency group of every event that runs the engine
FAST_QUEUE, FAST_JOBS = "fast", 2  # Fast jobs' own concurrency group, and how many at once
INSTANT_QUEUE, INSTANT_JOBS = "instant", 2  # likewise for Instant jobs (about a second each)
VIDEO_QUEUE, VIDEO_JOBS = "video", 1  # whole clips: minutes each, so one at a time
LIVE_QUEUE, LIVE_JOBS = "live", 1  # live cameras: a frame at a time, each holding a slot
