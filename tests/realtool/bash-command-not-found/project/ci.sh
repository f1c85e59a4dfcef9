#!/bin/bash
set -e
echo "checking"
jq-cars-missing '.version' package.json
