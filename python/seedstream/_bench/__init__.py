"""`python -m seedstream bench`: seedstream against NumPy's and PyTorch's generators.

A benchmark, not a test: it measures and reports, and never decides pass or fail. It ships
with the package so that an installed wheel can run it, but nothing imports it except that
command (seedstream._selfcheck) and the scripts in benches/.

    python -m seedstream bench                 # sizes 1e3 ... 1e8, every workload
    python -m seedstream bench --quick         # sizes 1e3 and 1e6, fewer and shorter repeats
    python -m seedstream bench --sizes 1e7 --only random,bernoulli --out /tmp/r

Method. A case is one workload at one size and dtype. Its contenders are seedstream at each
thread count, NumPy's Generator with PCG64, Philox and MT19937, torch's CPU generator with 1
thread and with every core, torch CUDA and seedstream on CUDA tensors when a GPU is present,
and ``ndarray.fill`` into a preallocated buffer of the output's byte size (this machine's
memory-fill bandwidth). Preallocated outputs (``out=``) are one buffer shared by every
contender, so all write to the same memory. Each contender is warmed up and calibrated so
that one repeat (a loop of calls) lasts about ``--target-ms``; the repeats then go
round-robin over the contenders, so a change in machine load hits all of them alike, and
the reported time is the median per-call time. Peak memory is sampled from
/proc/self/statm in a background thread during one more call per contender.

Modules, in the order data flows: timer (the one timer every benchmark uses), machine
(libraries, threads, memory probes), harness (cases, contenders, the run of one case),
workloads, units and report (records to tables), plot, cli.
"""
