"""``ohs`` speaks Chinese: a county's staff read every help text and every message in Chinese, and an
English-speaking operator gets English with ``LANG=en_US.UTF-8`` (``shared.i18n.cli_locale``).

The help texts are written when the command starts, so the help is read from a fresh process started
in each language; the messages are written when printed, so they are read in this process with the
language set for the one invocation. The language is always set here, never taken from this machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from tests.unit.sampling.test_third_party import PUBLICATION

REPO = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u3400-\u9fff]")
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{2,}(?:[ ,]+[A-Za-z]{2,}){2,}")  # three English words in a row
CODE_SPAN = re.compile(r"`[^`]*`")  # `ohs bulk template OUT.xlsx`: a command to type, not a sentence
GROUPS = ["bulk", "registry", "sampling", "penalty", "notification", "console", "ops", "monitoring"]


def language(lang: str) -> dict[str, str | None]:
    """The environment of a command run under ``lang`` (the variables that would override LANG removed)."""
    return {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": lang}


CHINESE, ENGLISH = language("zh_CN.UTF-8"), language("en_US.UTF-8")


def run_in(lang: dict[str, str | None], *args: str) -> subprocess.CompletedProcess[str]:
    """``args`` in a new process under ``lang``, on a wide terminal (no line wrapped inside a description)."""
    env = {name: value for name, value in os.environ.items() if name not in lang}
    env.update({name: value for name, value in lang.items() if value is not None})
    env.update(COLUMNS="400", TERM="dumb", NO_COLOR="1", PYTHONIOENCODING="utf-8")
    ohs = Path(sys.executable).with_name("ohs")
    command = [str(ohs)] if ohs.exists() else [sys.executable, "-m", "services.cli"]
    return subprocess.run([*command, *args], cwd=REPO, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)


def described_commands(help_output: str) -> dict[str, str]:
    """The rows of the commands panel of a ``--help``: command → its description."""
    rows = (re.match(r"^│ (\S+)\s+(.+?)\s*│$", line) for line in help_output.splitlines())
    return {row.group(1): row.group(2) for row in rows if row and not row.group(1).startswith("-")}


# Every help text of the whole command tree (each group, command, option and argument, and the epilogs),
# collected by the command itself in a fresh process: no command or option can be forgotten.
EVERY_HELP_TEXT = """
import json, typer, typer.main
from services.cli import app
texts = []
def walk(command, path):
    for text in (command.help, command.epilog):
        if text:
            texts.append([path, text])
    for param in command.params:
        if getattr(param, "help", None):
            texts.append([path + " " + param.name, param.help])
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        walk(sub, path + " " + name)
walk(typer.main.get_command(app), "ohs")
print(json.dumps(texts, ensure_ascii=False))
"""


def every_help_text(lang: dict[str, str | None]) -> list[tuple[str, str]]:
    env = {name: value for name, value in os.environ.items() if name not in lang}
    env.update({name: value for name, value in lang.items() if value is not None})
    done = subprocess.run([sys.executable, "-c", EVERY_HELP_TEXT], cwd=REPO, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr
    return [(where, text) for where, text in json.loads(done.stdout)]


# --------------------------------------------------------------------------- the help, read in a new process


def test_a_county_officer_reads_ohs_help_in_chinese_every_command_described_in_chinese() -> None:
    shown = run_in(CHINESE, "--help")
    assert shown.returncode == 0, shown.stderr
    described = described_commands(shown.stdout)
    assert set(described) == set(GROUPS), shown.stdout
    for command, description in described.items():
        assert HAN.search(description) and not ENGLISH_SENTENCE.search(description), f"{command}: {description!r}"
    assert "职业卫生分类监督执法平台的命令行" in shown.stdout
    assert "─ 命令 ─" in shown.stdout and "─ 选项 ─" in shown.stdout  # typer's panel titles too


def test_one_command_help_in_chinese_its_options_and_arguments_too() -> None:
    shown = run_in(CHINESE, "bulk", "employers", "--help")
    assert shown.returncode == 0, shown.stderr
    assert "导入本县的用人单位名单（附件6）：每行一份评估报告。" in shown.stdout
    assert "附件6 用人单位名单，.xlsx 或 .xls 文件" in shown.stdout and "[必填]" in shown.stdout
    assert "只校验，不提交" in shown.stdout and "[环境变量 OHS_TOKEN]" in shown.stdout and "[默认 500]" in shown.stdout
    assert "各列按标题识别：序号、用人单位名称*" in shown.stdout  # the epilog: how 附件6 is laid out


def test_every_help_text_of_every_command_and_option_is_chinese() -> None:
    texts = every_help_text(CHINESE)
    assert len(texts) > 60, texts
    for where, text in texts:
        prose = CODE_SPAN.sub("", text)
        assert HAN.search(prose), f"{where}: no Chinese in {text!r}"
        assert not ENGLISH_SENTENCE.search(prose), f"{where}: an English sentence in {text!r}"


def test_under_an_english_locale_the_same_help_is_english() -> None:
    shown = run_in(ENGLISH, "--help")
    assert shown.returncode == 0, shown.stderr
    described = described_commands(shown.stdout)
    assert set(described) == set(GROUPS), shown.stdout
    for command, description in described.items():
        assert not HAN.search(description) and ENGLISH_SENTENCE.search(description), f"{command}: {description!r}"
    assert "─ Commands ─" in shown.stdout

    one = run_in(ENGLISH, "bulk", "employers", "--help")
    assert "Load the county's employer list (Annex 6): one assessment report per row." in one.stdout
    assert "validate only, submit nothing" in one.stdout and "[env var: OHS_TOKEN]" in one.stdout
    for where, text in every_help_text(ENGLISH):
        # Chinese only where the text names what the reader finds in a Chinese file (附件6's column titles)
        assert ENGLISH_SENTENCE.search(HAN.sub("", text)) or not HAN.search(text), f"{where}: {text!r}"


# --------------------------------------------------------------------------- messages, in this process


def tampered(tmp_path: Path) -> Path:
    """The published draw of 141024 with its first target moved off site: the recomputation disagrees."""
    publication = json.loads(PUBLICATION.read_text(encoding="utf-8"))
    publication["draw"]["targets"][0]["on_site"] = not publication["draw"]["targets"][0]["on_site"]
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(publication, ensure_ascii=False), encoding="utf-8")
    return path


def test_verifying_a_tampered_publication_says_so_in_chinese_and_in_english_under_lang_en(tmp_path: Path) -> None:
    path = tampered(tmp_path)
    chinese = CliRunner(env=CHINESE).invoke(app, ["sampling", "verify", str(path)])
    assert chinese.exit_code == 1 and chinese.stdout.startswith("不一致：targets[0].on_site"), chinese.output
    english = CliRunner(env=ENGLISH).invoke(app, ["sampling", "verify", str(path)])
    assert english.exit_code == 1 and english.stdout.startswith("mismatch: targets[0].on_site"), english.output

    intact = CliRunner(env=CHINESE).invoke(app, ["sampling", "verify", str(PUBLICATION)])
    assert intact.exit_code == 0 and re.match(r"一致：抽查计划 \S+（141024，2026），抽取对象 \d+ 个，对象库哈希 [0-9a-f]{64}", intact.stdout)


@pytest.mark.parametrize(("args", "exit_code", "chinese", "english"), [
    (["sampling", "verify", "{bad}"], 2, "无法使用：{bad}：不是有效的 JSON（第 1 行第 2 列）", "unusable: {bad}: not JSON (line 1, column 2)"),
    (["sampling", "verify", "{missing}"], 2, "无法使用：{missing}：文件不存在", "unusable: {missing}: no such file"),
    (["registry", "chain", "verify"], 2, "错误：--region 与 --all 须给出其一，且只能给出其一", "error: give either --region or --all"),
    (["penalty", "sweep", "--today", "2024-13-40"], 2, "日期应写作 YYYY-MM-DD（如 2024-09-30），收到的是“2024-13-40”",
     "a date is written YYYY-MM-DD (e.g. 2024-09-30), not '2024-13-40'"),
    (["bulk", "template", "{bad}"], 2, "错误：{bad}：模板须为 .xlsx 文件", "error: {bad}: the template is an .xlsx file"),
    (["bulk", "employers", "{missing}", "--dry-run"], 2, "错误：{missing}：文件或文件夹不存在", "error: {missing}: no such file or folder"),
], ids=["not json", "no file", "region or all", "bad date", "template not xlsx", "bulk no file"])
def test_a_usage_error_is_said_in_chinese_and_in_english_under_lang_en(
    tmp_path: Path, args: list[str], exit_code: int, chinese: str, english: str,
) -> None:
    bad, missing = tmp_path / "bad.json", tmp_path / "missing.json"
    bad.write_text("{", encoding="utf-8")
    args = [arg.format(bad=bad, missing=missing) for arg in args]
    for lang, expected in ((CHINESE, chinese), (ENGLISH, english)):
        said = CliRunner(env=lang).invoke(app, args)
        assert said.exit_code == exit_code, said.output
        assert expected.format(bad=bad, missing=missing) in " ".join(said.output.replace("│", " ").split()), said.output


def test_a_dry_run_summary_is_a_chinese_table_and_the_errors_file_keeps_its_columns(tmp_path: Path) -> None:
    template = tmp_path / "附件6.xlsx"
    assert CliRunner(env=CHINESE).invoke(app, ["bulk", "template", str(template)]).stdout.startswith("附件6 模板已写出：")
    done = CliRunner(env=CHINESE).invoke(app, ["bulk", "employers", str(template), "--dry-run", "--errors", str(tmp_path / "e.csv")])
    assert done.exit_code == 0, done.output
    for label in ("批量导入结果（仅校验，未提交）", "项目", "行数", "读取", "有效", "新提交", "已提交过", "有错误", "错误清单："):
        assert label in done.output
    assert not ENGLISH_SENTENCE.search(done.output.replace(str(tmp_path), ""))
    english = CliRunner(env=ENGLISH).invoke(app, ["bulk", "employers", str(template), "--dry-run", "--errors", str(tmp_path / "e.csv")])
    assert "Bulk intake results (dry run, nothing submitted)" in english.output and "already submitted" in english.output
    assert (tmp_path / "e.csv").read_text(encoding="utf-8-sig").splitlines()[0] == "行号,统一社会信用代码,字段,错误说明"


def test_the_bulk_command_asks_the_service_for_its_row_errors_in_the_same_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.assessment.entrypoints import cli as bulk

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert bulk.language() == {"Accept-Language": "zh-CN"}
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert bulk.language() == {"Accept-Language": "en"}
