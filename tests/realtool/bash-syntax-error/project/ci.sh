#!/bin/bash
for f in *.txt; do
  echo "$f"
done
fi
