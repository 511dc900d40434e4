"""A small reader for Dockerfile syntax (https://docs.docker.com/reference/dockerfile/).

Enough for static checks: comments, line continuations, stages, and the exec (JSON) and shell
forms of instruction arguments. Parser directives and heredocs are not supported.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the raw argument text, continuations joined
    line: int  # 1-based line where the instruction starts

    def words(self) -> list[str]:
        """The arguments as a list: the JSON array of the exec form, else shell-split."""
        text = self.args.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        return shlex.split(text)


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def parse(text: str) -> list[Instruction]:
    """Instructions of a Dockerfile, in order."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1])
            continue
        pending.append(stripped)
        joined = " ".join(part.strip() for part in pending if part.strip())
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    if pending:
        raise ValueError(f"Dockerfile ends inside a continued instruction (line {start})")
    return out


def stages(instructions: list[Instruction]) -> list[Stage]:
    """Split instructions at each FROM; instructions before the first FROM are an error."""
    result: list[Stage] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            words = [w for w in ins.words() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append(Stage(base=words[0], name=name))
        elif ins.keyword == "ARG" and not result:
            continue
        elif not result:
            raise ValueError(f"line {ins.line}: {ins.keyword} before the first FROM")
        else:
            result[-1].instructions.append(ins)
    return result


def healthcheck_command(ins: Instruction) -> list[str]:
    """The command of `HEALTHCHECK [OPTIONS] CMD ...` as a list of words."""
    head, sep, command = ins.args.partition("CMD")
    if not sep:
        raise ValueError(f"line {ins.line}: HEALTHCHECK without CMD: {ins.args!r}")
    return Instruction("CMD", command.strip(), ins.line).words()
