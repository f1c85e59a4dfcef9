#!/bin/bash
if [ -f x ]; then
  echo yes
