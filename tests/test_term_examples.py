"""Every registered term can be built by the tests that must cover all of them (state round-trip, pickling)."""

import term_examples as tx


def test_every_registered_term_has_example_params_or_a_builder():
    assert not tx.missing(), ("terms with required params but no register_term(..., example=...) and no builder "
                              f"in tests/term_examples.py: {tx.missing()}")
