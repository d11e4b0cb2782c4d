"""Write the synthetic sample data set (subjects.csv, records.csv).

    .venv/bin/python data/generate_sample.py                # data/sample, defaults
    .venv/bin/python data/generate_sample.py --subjects 500000 --records 1000000 --out /tmp/big
"""

from __future__ import annotations

import argparse
from pathlib import Path

from creditindex.generate import write_sample
from creditindex.rules import load_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=5000, help="number of subjects")
    parser.add_argument("--records", type=int, default=8000, help="number of records")
    parser.add_argument("--seed", type=int, default=20261126, help="random seed")
    parser.add_argument("--rules", type=Path, default=None,
                        help="rule set to draw behaviour codes from (default: the project's)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "sample",
                        help="output directory (default: data/sample)")
    args = parser.parse_args()
    rules = load_rules(args.rules) if args.rules else None
    write_sample(args.out, args.subjects, args.records, args.seed, rules)
    print(f"wrote {args.out / 'subjects.csv'} and {args.out / 'records.csv'}")


if __name__ == "__main__":
    main()
