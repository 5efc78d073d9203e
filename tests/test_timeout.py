"""A hung test fails by the suite's per-test timeout instead of holding `make test`."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_the_suite_has_a_per_test_timeout(pytestconfig: pytest.Config) -> None:
    assert 0 < float(pytestconfig.getini("timeout")) <= 600


def test_a_test_awaiting_a_workflow_that_never_finishes_fails_by_timeout(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = auto\ntimeout = 2\n")
    pytester.makepyfile(
        """
        import asyncio

        async def test_waits_for_a_result_that_never_comes():
            never = asyncio.get_running_loop().create_future()  # a workflow that never ends
            await never
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Timeout*"])
