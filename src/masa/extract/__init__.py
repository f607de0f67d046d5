"""From video to poses: decode a video (OpenCV), run a pose estimator on each frame, and write
the field's interchange format (pose-format `.pose`).

    video.py        open_video: decoding, frame rate, size; clear errors for bad files
    estimators/     the estimator interface and the registered backends (MediaPipe Holistic)
    extract.py      video_to_pose, and `masa extract` over many videos in processes
    overlay.py      the extracted skeleton drawn over the video's frames (`masa show VIDEO`)

Everything here needs the optional `masa[video]` extra; nothing else in masa imports it
unless a video is given.
"""
