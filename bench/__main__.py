"""`python -m bench run [--full]` — the benchmark harness of issue 8 (`make bench`,
`make bench-full`); see docs/benchmarks.md "Harness". The single scenarios still run on
their own: `python -m bench.sqlite_sync`, `bench.guest_menu`, `bench.place_order`, `bench.bill`."""

import sys

from bench.run import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        args = args[1:]
    main(args)
