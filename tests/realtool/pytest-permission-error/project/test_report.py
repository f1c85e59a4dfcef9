from report import write_report


def test_overwrites_report(tmp_path):
    p = tmp_path / "report.txt"
    p.write_text("old")
    p.chmod(0o444)
    write_report(p, "new")
    assert p.read_text() == "new"
