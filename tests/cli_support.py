"""What the command-line tests share (tests/ is on sys.path through pytest's `pythonpath` setting)."""
from __future__ import annotations

from multigan.cli import main


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """`multigan ARGV...` in this process: (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error_line(err: str) -> str:
    """The one `multigan: error:` line a user mistake must give, with no traceback."""
    lines = [line for line in err.splitlines() if line.startswith("multigan: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
