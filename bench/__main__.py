"""`make bench`: the scenarios that exist so far. The full harness (wrk, open-loop latency,
guest and KDS request sequences) arrives with the benchmark issue."""

from bench.sqlite_sync import main

if __name__ == "__main__":
    main()
