#!/bin/bash
set -euo pipefail
echo "deploying to $DEPLOY_TARGET"
