"""The tunable parts of the fold, the risk signals and the view, as one value every domain module can take."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FoldRules:
    """The tunable parts of the fold; passed in so the domain never reads settings."""

    recent_limit: int = 10
    negativity_bias: float = 4.0
    half_life_days: float = 90.0
    negative_run: int = 3  # this many latest scored touchpoints all negative: at risk
    falling_half_life_days: float = 14.0  # the short memory the falling-score signal compares with the long one
    falling_drop: float = 30.0  # points the short score must be below the long one
    falling_min_scored: int = 4  # fewer scored touchpoints say too little to call a trend
    contract_limit: int = 5
    issue_limit: int = 10
    case_limit: int = 32
