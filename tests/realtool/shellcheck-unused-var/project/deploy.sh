#!/bin/sh
target=prod
echo "deploying"
