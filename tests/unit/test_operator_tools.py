"""Guru Meditation sections and profiler settings, in process."""

import pytest
from oslo_config import cfg
from oslo_reports import guru_meditation_report as gmr_lib

from logsvc import gmr, profiling
from logsvc.exceptions import ConfigError


def test_a_failing_section_does_not_lose_the_report():
    def broken():
        raise RuntimeError("the database is on fire")

    gmr_lib.TextGuruMeditation.persistent_sections = []
    gmr_lib.TextGuruMeditation.register_section("Broken", gmr.guarded("Broken", broken))
    gmr_lib.TextGuruMeditation.register_section("Fine", gmr.guarded("Fine", lambda: "all good"))
    try:
        report = gmr_lib.TextGuruMeditation(gmr.VersionInfo()).run()
    finally:
        gmr_lib.TextGuruMeditation.persistent_sections = []
    assert "(this section failed: RuntimeError: the database is on fire)" in report
    assert "all good" in report and "Package" in report


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    profiling.register_opts(conf)
    conf([], project="logsvc")
    return conf


def test_profiling_is_off_by_default_with_no_key(conf):
    assert conf.profiler.enabled is False
    assert conf.profiler.hmac_keys == ""
    assert profiling.init(conf, "test") is False


@pytest.mark.parametrize("keys", ["", "SECRET_KEY", "mine,SECRET_KEY"])
def test_profiling_refuses_no_key_or_the_well_known_one(conf, keys):
    conf.set_override("enabled", True, "profiler")
    conf.set_override("hmac_keys", keys, "profiler")
    conf.set_override("connection_string", "file:///tmp/x", "profiler")
    with pytest.raises(ConfigError, match="hmac_keys"):
        profiling.init(conf, "test")


def test_the_connection_string_is_a_secret():
    ((_, opts),) = profiling.list_opts()
    secret = {o.name for o in opts if o.secret}
    assert {"connection_string", "hmac_keys"} <= secret
