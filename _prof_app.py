import cProfile
import os

_pr = cProfile.Profile()
_pr.enable()
try:
    exec(compile(open("/work/main/app.py").read(), "/work/main/app.py", "exec"))
finally:
    _pr.disable()
    _pr.dump_stats(f"/tmp/prof_run_{os.getpid()}_{id(_pr)}.prof")
