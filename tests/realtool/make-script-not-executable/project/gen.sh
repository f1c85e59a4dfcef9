#!/bin/sh
echo generated
