"""Results in upstream performance-metrics' report format, plus the QEMU side and the ratio.

Upstream's report: {"git_human_readable", "git_revision", "git_commit_date", "date",
"results": [{"name", "mean", "std_dev", "max", "min"}]} (std_dev is the population standard deviation).
Each result here keeps those five fields for cloud-hypervisor and adds "unit", "iterations", "method", "qemu"
(the same five statistics for QEMU) and "ratio_to_qemu" (cloud-hypervisor mean / QEMU mean). A metric that cannot be
measured yet is {"name", "unavailable": "not supported yet: ..."}; one that failed is {"name", "error"}.
"""
import json
import math
import os
import subprocess


def statistics(samples):
    mean = sum(samples) / len(samples)
    std_dev = math.sqrt(sum((s - mean) ** 2 for s in samples) / len(samples))
    return {"mean": mean, "std_dev": std_dev, "max": max(samples), "min": min(samples)}


def _rounded(stats):
    return {key: round(value, 3) for key, value in stats.items()}


def _command(*argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return out.stdout.strip() if out.returncode == 0 else ""
    except OSError:
        return ""


class Report:
    def __init__(self, repo_root):
        git = ["git", "-C", repo_root]
        self.header = {
            "git_human_readable": _command(*git, "describe", "--dirty", "--always"),
            "git_revision": _command(*git, "rev-parse", "HEAD"),
            "git_commit_date": _command(*git, "show", "-s", "--format=%cd"),
            "date": _command("date"),
        }
        self.results = []
        self.failures = []

    def add(self, name, unit, method, ch_samples, qemu_samples=None, **extra):
        result = {"name": name, **_rounded(statistics(ch_samples)), "unit": unit,
                  "iterations": len(ch_samples), "method": method}
        if qemu_samples:
            qemu = statistics(qemu_samples)
            result["qemu"] = _rounded(qemu)
            result["ratio_to_qemu"] = round(result["mean"] / qemu["mean"], 3) if qemu["mean"] else None
        result.update(extra)
        self.results.append(result)

    def unavailable(self, name, reason):
        self.results.append({"name": name, "unavailable": reason})

    def failed(self, name, error):
        self.results.append({"name": name, "error": error})
        self.failures.append(name)

    def write(self, path, host):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        document = {**self.header, "host": host, "results": self.results}
        with open(path, "w") as out:
            json.dump(document, out, indent=2)
            out.write("\n")

    def rows(self):
        """(metric, unit, cloud-hypervisor, QEMU, ratio) strings for every result that is not unavailable."""
        def figure(stats):
            return f"{_short(stats['mean'])} ± {_short(stats['std_dev'])}"

        for r in self.results:
            if "unavailable" in r:
                continue
            if "error" in r:
                yield r["name"], "", "FAILED: " + r["error"].splitlines()[0][:60], "", ""
            else:
                qemu = r.get("qemu")
                ratio = r.get("ratio_to_qemu")
                yield (r["name"], r["unit"], figure(r), figure(qemu) if qemu else "-",
                       f"{ratio:.2f}" if ratio is not None else "-")

    def table(self):
        header = ("metric", "unit", "cloud-hypervisor (mean ± sd)", "QEMU (mean ± sd)", "CH/QEMU")
        rows = [header, *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(lines + self.unavailable_lines())

    def markdown(self):
        header = ("metric", "unit", "cloud-hypervisor (mean ± sd)", "QEMU (mean ± sd)", "CH/QEMU")
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
        for row in self.rows():
            lines.append("| " + " | ".join(f"`{row[0]}`" if i == 0 else cell for i, cell in enumerate(row)) + " |")
        return "\n".join(lines + [""] + [line + "  " for line in self.unavailable_lines()])

    def unavailable_lines(self):
        """One line per reason: the metrics listed as unavailable for it."""
        reasons = {}
        for r in self.results:
            if "unavailable" in r:
                reasons.setdefault(r["unavailable"], []).append(r["name"])
        return [f"{reason}: {', '.join(names)}" for reason, names in reasons.items()]


def _short(value):
    """Three significant figures, no exponent for the magnitudes seen here."""
    if value == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(value)))))
    return f"{value:.{digits}f}"
