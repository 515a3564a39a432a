"""`make audit` (scripts/audit.py) judging pip-audit's JSON against the allowlist; the real run
is `make audit` itself (CI runs it), since it needs the advisory service."""
from __future__ import annotations

import json

from scripts import audit


def pip_audit_json(*dependencies):
    return {"dependencies": list(dependencies), "fixes": []}


VULNERABLE = {"name": "example", "version": "1.0", "vulns": [
    {"id": "PYSEC-2099-1", "aliases": ["GHSA-aaaa-bbbb-cccc"], "fix_versions": ["1.1"], "description": "..."}]}
CLEAN = {"name": "tidy", "version": "2.0", "vulns": []}


def run(tmp_path, capsys, report, accepted):
    (tmp_path / "report.json").write_text(json.dumps(report))
    (tmp_path / "allow.yml").write_text(json.dumps({"accepted": accepted}))
    code = audit.main(["--report", str(tmp_path / "report.json"), "--allowlist", str(tmp_path / "allow.yml")])
    return code, capsys.readouterr().out


def test_a_vulnerability_outside_the_allowlist_fails(tmp_path, capsys):
    code, out = run(tmp_path, capsys, pip_audit_json(VULNERABLE, CLEAN), [])
    assert code == 1
    assert "VULNERABLE example 1.0: PYSEC-2099-1 (GHSA-aaaa-bbbb-cccc); fixed in: 1.1" in out


def test_an_accepted_advisory_passes_with_its_reason_shown_even_by_alias(tmp_path, capsys):
    accepted = [{"id": "GHSA-aaaa-bbbb-cccc", "package": "example", "why": "Rasa pins it; the parser is unused."}]
    code, out = run(tmp_path, capsys, pip_audit_json(VULNERABLE, CLEAN), accepted)
    assert code == 0 and "accepted   example 1.0: PYSEC-2099-1: Rasa pins it; the parser is unused." in out


def test_an_allowlist_entry_without_a_reason_is_refused(tmp_path, capsys):
    code, _ = run(tmp_path, capsys, pip_audit_json(CLEAN), [{"id": "PYSEC-2099-1", "package": "example"}])
    assert code == 1


def test_a_stale_entry_is_reported(tmp_path, capsys):
    accepted = [{"id": "PYSEC-2000-9", "package": "old", "why": "was pinned"}]
    code, out = run(tmp_path, capsys, pip_audit_json(CLEAN), accepted)
    assert code == 0 and "stale allowlist entry (nothing matches it any more, remove it): PYSEC-2000-9" in out


def test_an_unreachable_advisory_service_is_reported_not_fatal_and_not_called_clean(tmp_path, capsys):
    # What pip-audit answers without network: every package skipped, "No known vulnerabilities".
    skipped = [{"name": n, "skip_reason": f"Dependency not found on PyPI and could not be audited: {n} (1.0)"}
               for n in ("rasa", "aiohttp")]
    code, out = run(tmp_path, capsys, pip_audit_json(*skipped), [])
    assert code == 0
    assert "0 of 2 locked packages audited" in out and "NOT AUDITED" in out


def test_the_committed_allowlist_is_valid():
    for entry in audit.load_allowlist().values():
        assert entry["why"].strip()


def test_make_audit_and_ci_run_it():
    from bot.settings import ROOT

    assert "\naudit: venv" in (ROOT / "Makefile").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make audit ||" in ci  # printed, never fatal
