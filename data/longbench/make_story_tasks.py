#!/usr/bin/env python3
"""Writes three small LongBench-format tasks over the TinyStories prompts of data/prompts (the
stories260K model's own stories), for trying `kvstudio-cli eval longbench` on a laptop:

  passage_retrieval_en.jsonl  which of three paragraphs a summary (its first 120 characters) is from
  passage_count.jsonl         how many distinct paragraphs there are (always 3)
  qasper.jsonl                a question about one story

    python3 data/longbench/make_story_tasks.py OUT_DIR [SAMPLES]

The same files the tests write (tests/model/longbench_fixture.h), with LongBench's fields."""
import json
import os
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 16
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "prompts", "tinystories_prompts.txt"), encoding="utf-8") as f:
        stories = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#")]
    os.makedirs(out, exist_ok=True)
    files = {name: open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8")
             for name in ("passage_retrieval_en", "passage_count", "qasper")}
    for i in range(n):
        pick = i % 3
        context = "".join("Paragraph %d: %s\n\n" % (p + 1, stories[(i + p) % len(stories)])
                          for p in range(3))
        r = {"input": stories[(i + pick) % len(stories)][:120], "context": context,
             "answers": ["Paragraph %d" % (pick + 1)], "length": 300, "all_classes": None,
             "language": "en", "_id": "r%d" % i}
        files["passage_retrieval_en"].write(json.dumps(r) + "\n")
        c = dict(r, input="", answers=["3"], _id="c%d" % i)
        files["passage_count"].write(json.dumps(c) + "\n")
        q = dict(r, input="What did the girl want to do?", context=stories[i % len(stories)],
                 answers=["play with the ball", "play"], _id="q%d" % i)
        files["qasper"].write(json.dumps(q) + "\n")
    for f in files.values():
        f.close()
    print("wrote %d samples of each task to %s" % (n, out))


if __name__ == "__main__":
    main()
