#!/bin/bash
echo "waiting for the service to write ./ready"
until [ -f ready ]; do sleep 0.2; done
