"""eddy.create_subprocess_shell: asyncio's (``/bin/sh -c cmd``), with the same
Process; each scenario runs under asyncio and eddy and must agree."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import eddy

ASYNCIO = SimpleNamespace(run=asyncio.run, shell=asyncio.create_subprocess_shell, PIPE=asyncio.subprocess.PIPE,
                          STDOUT=asyncio.subprocess.STDOUT)
EDDY = SimpleNamespace(run=eddy.run, shell=eddy.create_subprocess_shell, PIPE=eddy.PIPE, STDOUT=eddy.STDOUT)


def both(scenario):
    a = ASYNCIO.run(scenario(ASYNCIO))
    e = EDDY.run(scenario(EDDY))
    assert e == a, f"eddy {e!r} != asyncio {a!r}"
    return e


async def shell_scenario(ns):
    p = await ns.shell('read line; echo "$line $EDDY_Y" | tr a-z A-Z; echo e >&2; exit 4', stdin=ns.PIPE,
                       stdout=ns.PIPE, stderr=ns.STDOUT, env={"EDDY_Y": "why", "PATH": "/usr/bin:/bin"}, cwd="/")
    out, err = await p.communicate(b"piped\n")
    q = await ns.shell(b"pwd", stdout=ns.PIPE, cwd="/tmp")
    out2, _ = await q.communicate()
    return out, err, p.returncode, out2, q.returncode


def test_shell_pipes_env_cwd_and_exit_code_like_asyncio():
    assert both(shell_scenario) == (b"PIPED WHY\ne\n", None, 4, b"/tmp\n", 0)


def test_cmd_must_be_a_string_like_asyncio():
    async def bad(ns):
        try:
            await ns.shell(["ls"])
        except ValueError as e:
            return str(e)
        return "accepted"

    assert both(bad) == "cmd must be a string"
