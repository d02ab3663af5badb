"""The fault suite's ledger: an event counts once however often it is acknowledged, and only when acknowledged."""

from services.cli.faults_ledger import Ledger, compare


def test_an_event_acknowledged_again_as_a_duplicate_counts_once() -> None:
    ledger = Ledger()
    sent = {"c-ana": ["e1", "e2"], "c-zoe": ["e3"]}

    ledger.acknowledge(sent, {"accepted": ["e1", "e2", "e3"], "duplicates": []})
    ledger.acknowledge(sent, {"accepted": [], "duplicates": ["e1", "e2", "e3"]})  # the same batch, sent again

    assert ledger.expected() == {"c-ana": 2, "c-zoe": 1}
    assert ledger.total == 3


def test_only_ids_the_answer_names_are_booked() -> None:
    ledger = Ledger()

    ledger.acknowledge({"c-ana": ["e1", "e2"]}, {"accepted": ["e1"], "duplicates": []})

    assert ledger.expected() == {"c-ana": 1}


def test_views_short_of_or_beyond_the_ledger_are_lost_or_counted_twice() -> None:
    verdict = compare({"c-ana": 3, "c-zoe": 2, "c-raj": 1, "c-new": 0}, {"c-ana": 3, "c-zoe": 1, "c-raj": None,
                                                                        "c-new": 1})  # fmt: skip

    assert (verdict.lost, verdict.counted_twice, verdict.missing_views) == (2, 1, 1)
