"""Mean ± std over seeds of the grasp V-JEPA 2.1 ablation (EXPERIMENTS §6.2), from a sweep's
sweep_results.csv and each run's plan-<task>-cem*/plan_report.json (pooled). A run whose encoder
collapsed (held-out latent std below 0.1) is left out of the probe and rollout means and named in
the seeds column; its planning counts are still shown.

    python3 tools/grasp_ablation_table.py runs/sweeps/grasp-v21-ablation
"""
import csv, json, os, statistics, sys

root = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(root, "sweep_results.csv"))))
variants = {}
for r in rows:
    variants.setdefault((r["loss.dense"], r["loss.deep"]), []).append(r)

def plan(run, task):
    """Successes and episodes over every plan-<task>-cem* report of the run (one per episode seed)."""
    results = []
    for d in sorted(os.listdir(os.path.join(root, run))):
        path = os.path.join(root, run, d, "plan_report.json")
        if d.startswith(f"plan-{task}-cem") and os.path.exists(path):
            results += json.load(open(path))["results"][0]["episode_results"]
    return (sum(e["success"] for e in results), len(results)) if results else None

def ms(values, fmt="%.3f"):
    if len(values) == 1:
        return fmt % values[0]
    return (fmt + " ± " + fmt) % (statistics.mean(values), statistics.stdev(values))

print("| dense | deep | seeds | gripper x | gripper y | opening | object x | object y | held | rollout k=1 / repeat | k=8 / repeat | shuffled / model k=8 | eff. rank | reach | lift |")
print("|---|---|---|" + "---|" * 12)
for (dense, deep), runs in sorted(variants.items()):
    healthy = [r for r in runs if float(r["collapse.mean_std"]) >= 0.1]
    f = lambda k: [float(r[k]) for r in healthy]
    ratio = lambda a, b: [float(r[a]) / float(r[b]) for r in healthy]
    cells = [ms(f(f"probe.{q}.r2")) for q in ["gripper.x", "gripper.y", "gripper.opening", "object0.x", "object0.y", "object0.held"]]
    cells += [ms(ratio("rollout.errors.model.1", "rollout.errors.repeat_last.1"), "%.2f"),
              ms(ratio("rollout.errors.model.8", "rollout.errors.repeat_last.8"), "%.2f"),
              ms(ratio("rollout.errors.shuffled_actions.8", "rollout.errors.model.8"), "%.2f"),
              ms(f("collapse.effective_rank"), "%.1f")]
    for task in ["reach", "lift"]:
        counts = [plan(r["run"], task) for r in runs]
        cells.append(" + ".join(f"{s}/{n}" for s, n in (c for c in counts if c)) or "–")
    seeds = ",".join(r["seed"] + ("" if r in healthy else " (collapsed)") for r in runs)
    print(f"| {dense} | {deep} | {seeds} | " + " | ".join(cells) + " |")
