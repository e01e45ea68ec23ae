import cProfile, pstats
from bench.fakecam import make_frames
from tasks.live import run_side
from tasks.tracking import StreamTracker
from tasks import TASKS
frames = make_frames(seconds=2)
task = TASKS["face"]; tr = StreamTracker()
run_side(task, "face/blazeface-short", frames[0], {}, tr, True)
pr = cProfile.Profile(); pr.enable()
for f in frames: run_side(task, "face/blazeface-short", f, {"min_score":0.5}, tr, True)
pr.disable()
pstats.Stats(pr).sort_stats("tottime").print_stats(14)
