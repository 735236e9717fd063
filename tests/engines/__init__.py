"""One folder per engine, named as in harness.engines.REGISTRY:

    tests/engines/<engine>/standin.py         STAND_IN = StandIn(...): its local stand-in, its
                                              gaps and how to reach a real account
                                              (tests/standins.py says what each field means)
    tests/engines/<engine>/test_<engine>.py   the tests of what is the engine's own

and, here, the suites every engine runs: test_conformance.py (answers, loading, the time limit,
cancelling, session settings, clean-up), parametrised from the registry and the bundled
workloads. A registered engine without a folder fails the suite by name.
"""
