"""How a touchpoint felt and how much it weighs in the experience score."""

from typing import Any

_US_PER_DAY = 86_400_000_000
POSITIVE_ABOVE = 0.2
NEGATIVE_BELOW = -0.2


def rating_sentiment(rating: Any) -> float | None:
    """Map a rating onto -1..1: NPS 0..10 around 5, CSAT and stars 1..5 around 3."""
    if not isinstance(rating, dict):
        return None
    value = rating.get("value")
    if not isinstance(value, int | float):
        return None
    if rating.get("scale") == "nps":
        return (float(value) - 5.0) / 5.0
    if rating.get("scale") in ("csat", "stars"):
        return (float(value) - 3.0) / 2.0
    return None


def touchpoint_sentiment(data: dict[str, Any]) -> float | None:
    sentiment = data.get("sentiment")
    if isinstance(sentiment, int | float) and not isinstance(sentiment, bool):
        # + 0.0 turns -0.0 into 0.0: the relay hands a new event over as Python wrote it ("-0.0") while the store
        # reads it back from jsonb, which has no negative zero ("0.0"). Both are the same sentiment and must give
        # the same view, or a rebuild finds such views changed and publishes them again.
        return float(sentiment) + 0.0
    return rating_sentiment(data.get("rating"))


def feeling(sentiment: float | None) -> str:
    if sentiment is None:
        return "neutral"
    if sentiment > POSITIVE_ABOVE:
        return "positive"
    if sentiment < NEGATIVE_BELOW:
        return "negative"
    return "neutral"


def decay(from_us: int, to_us: int, half_life_days: float) -> float:
    """The factor an experience at `from_us` keeps by `to_us`: it halves every half-life."""
    return float(2.0 ** ((from_us - to_us) / _US_PER_DAY / half_life_days))


def bias(sentiment: float, negativity_bias: float) -> float:
    """A bad experience weighs `negativity_bias` good ones."""
    return negativity_bias if sentiment < 0 else 1.0


def score(weighted_sentiment: float, weight_total: float) -> float:
    if weight_total <= 0.0:
        return 0.0
    return max(-100.0, min(100.0, round(100.0 * weighted_sentiment / weight_total, 1)))
