<?php
function total(array $xs): int { return array_sum($xs); }
echo totl([1, 2]);
