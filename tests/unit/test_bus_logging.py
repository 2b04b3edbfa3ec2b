"""py-amqp's notice of a method sent to a closing channel is not a warning (logsvc/bus.py)."""

import logging

import pytest
from amqp.abstract_channel import AMQP_LOGGER, IGNORED_METHOD_DURING_CHANNEL_CLOSE

from logsvc import bus


@pytest.fixture
def amqp_logger():
    before = list(AMQP_LOGGER.filters)
    bus._quiet_closing_channels()
    bus._quiet_closing_channels()  # once is enough: a second transport adds nothing
    yield AMQP_LOGGER
    AMQP_LOGGER.filters[:] = before


def closing_notice() -> None:
    # What py-amqp calls when the broker answers a channel it is closing.
    AMQP_LOGGER.warning(IGNORED_METHOD_DURING_CHANNEL_CLOSE, (60, 30), 1)


def test_the_filter_is_installed_once(amqp_logger):
    assert sum(isinstance(f, bus._ClosingChannelNotice) for f in amqp_logger.filters) == 1


def test_the_closing_notice_is_not_logged_without_debug(amqp_logger, caplog):
    caplog.set_level(logging.INFO, logger="amqp")
    closing_notice()
    assert not caplog.records


def test_the_closing_notice_is_debug_where_debug_is_on(amqp_logger, caplog):
    caplog.set_level(logging.DEBUG, logger="amqp")
    closing_notice()
    (record,) = caplog.records
    assert (record.levelname, record.getMessage()) == (
        "DEBUG",
        "Received method (60, 30) during closing channel 1. This method will be ignored",
    )


def test_other_warnings_of_amqp_stay_warnings(amqp_logger, caplog):
    caplog.set_level(logging.INFO, logger="amqp")
    AMQP_LOGGER.warning("Connection to broker lost, trying to re-establish connection...")
    (record,) = caplog.records
    assert record.levelname == "WARNING"
