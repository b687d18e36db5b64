import pytest

from rewardkit.verify.math.equivalence import MathEquivalence


@pytest.fixture(scope="session")
def symbolic_eq():
    """One math-verify worker pool shared by the tests (start-up costs ~2 s)."""
    eq = MathEquivalence(symbolic=True, workers=1, deadline=3.0)
    eq.pool.warm_up()
    yield eq
