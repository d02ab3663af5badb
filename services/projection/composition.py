"""What both composition roots, the service's (`bootstrap`) and the rebuild's (`rebuild_root`), build alike from
the settings: the fold rules, and the publishers of the view topics. Apart from `bootstrap`, so that `rapport
rebuild` starts without importing the web framework and the consumer (a third of a second of every rebuild)."""

from aiokafka import AIOKafkaProducer

from services.projection.adapters.view_publisher import KafkaViewPublisher
from services.projection.domain import FoldRules
from services.projection.settings import ProjectionSettings


def fold_rules(settings: ProjectionSettings) -> FoldRules:
    return FoldRules(
        settings.recent_limit, settings.negativity_bias, settings.half_life_days, negative_run=settings.negative_run,
        falling_half_life_days=settings.falling_half_life_days, falling_drop=settings.falling_drop,
    )  # fmt: skip


def view_publishers(
    producer: AIOKafkaProducer, settings: ProjectionSettings
) -> tuple[KafkaViewPublisher, KafkaViewPublisher]:
    """The customer and account view publishers, with or without personal fields as the settings say."""
    personal = settings.view_topic_personal_data
    return (
        KafkaViewPublisher(producer, settings.views_topic, personal_data=personal),
        KafkaViewPublisher(producer, settings.account_views_topic, key_field="account_id", personal_data=personal),
    )
