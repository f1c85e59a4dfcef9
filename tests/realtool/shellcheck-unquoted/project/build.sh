#!/bin/bash
dir=$1
rm -rf $dir/out
