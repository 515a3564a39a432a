"""`make audit`: the locked requirements (uv.lock) against the known vulnerabilities (pip-audit).

pip-audit runs through `uvx` in an environment of its own (it cannot be installed beside Rasa,
which pins `packaging`). Exit codes:
- 0: no known vulnerability outside the allowlist, or the advisory service could not be reached
  (reported loudly, not fatal: "not audited" is not "clean", and the report says which);
- 1: a known vulnerability not in the allowlist (or an allowlist entry without a reason).

The allowlist (`scripts/audit_allowlist.yml`) names each accepted advisory with why it is
accepted; an entry that no longer matches anything is reported as stale, so the list shrinks
when a pin moves.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.settings import ROOT

ALLOWLIST = ROOT / "scripts" / "audit_allowlist.yml"
PIP_AUDIT = "pip-audit>=2.7,<3"
AUDIT_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]

    def ids(self) -> set[str]:
        return {self.advisory, *self.aliases}


@dataclass
class Report:
    findings: list[Finding]
    skipped: dict[str, str]  # package -> why pip-audit could not audit it
    audited: int

    @property
    def unreachable(self) -> bool:
        """Nothing could be audited: the advisory service (or the index) was not reachable."""
        return self.audited == 0 and bool(self.skipped)


def load_allowlist(path: Path = ALLOWLIST) -> dict[str, dict[str, Any]]:
    """`{advisory id: entry}`; every entry needs `id`, `package` and a non-empty `why`."""
    entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("accepted") or []
    allowlist = {}
    for entry in entries:
        if not isinstance(entry, dict) or not str(entry.get("id") or "").strip():
            raise ValueError(f"{path.name}: every entry needs an 'id': {entry!r}")
        if not str(entry.get("why") or "").strip() or not str(entry.get("package") or "").strip():
            raise ValueError(f"{path.name}: {entry['id']} needs 'package' and 'why' (the reason it is accepted)")
        allowlist[str(entry["id"]).strip()] = entry
    return allowlist


def parse_report(data: dict[str, Any]) -> Report:
    """pip-audit's JSON (`--format json`)."""
    findings, skipped, audited = [], {}, 0
    for dependency in data.get("dependencies") or []:
        name = str(dependency.get("name"))
        if "skip_reason" in dependency:
            skipped[name] = str(dependency["skip_reason"])
            continue
        audited += 1
        for vuln in dependency.get("vulns") or []:
            findings.append(Finding(
                name, str(dependency.get("version")), str(vuln.get("id")),
                tuple(str(a) for a in vuln.get("aliases") or ()), tuple(str(v) for v in vuln.get("fix_versions") or ()),
            ))
    return Report(findings, skipped, audited)


def judge(report: Report, allowlist: dict[str, dict[str, Any]]) -> tuple[list[Finding], list[Finding], list[str]]:
    """(not allowed, allowed, stale allowlist ids)."""
    allowed = [f for f in report.findings if f.ids() & set(allowlist)]
    refused = [f for f in report.findings if not f.ids() & set(allowlist)]
    used = {i for f in allowed for i in f.ids()}
    stale = [] if report.unreachable else sorted(set(allowlist) - used)
    return refused, allowed, stale


def locked_requirements(directory: Path) -> Path:
    """uv.lock as a hashed requirements file (the project's own dependencies, dev group included)."""
    path = directory / "requirements.txt"
    subprocess.run(["uv", "export", "--frozen", "--format", "requirements-txt", "--no-emit-project",
                    "--quiet", "-o", str(path)], cwd=ROOT, check=True)
    return path


def run_pip_audit(requirements: Path, output: Path) -> tuple[int, str]:
    # --no-deps --disable-pip: the file is complete and hashed; nothing is resolved or installed.
    command = ["uvx", PIP_AUDIT, "-r", str(requirements), "--no-deps", "--disable-pip",
               "--progress-spinner", "off", "--format", "json", "-o", str(output)]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=AUDIT_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return -1, f"pip-audit did not finish within {AUDIT_TIMEOUT_SECONDS} s"
    return done.returncode, (done.stderr or "") + (done.stdout or "")


def print_report(report: Report, refused: list[Finding], allowed: list[Finding], stale: list[str],
                 allowlist: dict[str, dict[str, Any]]) -> None:
    total = report.audited + len(report.skipped)
    print(f"dependency audit: {report.audited} of {total} locked packages audited, "
          f"{len(report.findings)} known vulnerabilities ({len(allowed)} accepted, {len(refused)} not)")
    if report.unreachable:
        reasons = sorted(set(report.skipped.values()))[:3]
        print("NOT AUDITED: the advisory service could not be reached (no package could be looked up).")
        print("  e.g. " + "\n  e.g. ".join(reasons))
    elif report.skipped:
        print(f"not audited ({len(report.skipped)}): " + ", ".join(sorted(report.skipped)))
    for finding in refused:
        fix = ", ".join(finding.fix_versions) or "no fix released"
        print(f"VULNERABLE {finding.package} {finding.version}: {finding.advisory} "
              f"({', '.join(finding.aliases) or 'no aliases'}); fixed in: {fix}")
    for finding in allowed:
        entry = next(allowlist[i] for i in finding.ids() if i in allowlist)
        print(f"accepted   {finding.package} {finding.version}: {finding.advisory}: {entry['why'].strip()}")
    for advisory in stale:
        print(f"stale allowlist entry (nothing matches it any more, remove it): {advisory}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="judge this pip-audit JSON instead of running pip-audit")
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    args = parser.parse_args(argv)
    try:
        allowlist = load_allowlist(args.allowlist)
    except ValueError as error:
        print(f"dependency audit: {error}", file=sys.stderr)
        return 1
    if args.report:
        data = json.loads(args.report.read_text(encoding="utf-8"))
    else:
        if shutil.which("uvx") is None:
            print("NOT AUDITED: uvx is not installed (make venv installs uv)")
            return 0
        with tempfile.TemporaryDirectory() as directory:
            output = Path(directory) / "audit.json"
            code, log = run_pip_audit(locked_requirements(Path(directory)), output)
            if not output.exists():
                # pip-audit itself could not be fetched or did not run: nothing was audited.
                print(f"NOT AUDITED: pip-audit did not run (exit {code}):\n{log.strip()[-1500:]}")
                return 0
            data = json.loads(output.read_text(encoding="utf-8"))
    report = parse_report(data)
    refused, allowed, stale = judge(report, allowlist)
    print_report(report, refused, allowed, stale, allowlist)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
