<?php
declare(strict_types=1);
function double(int $x): int { return $x * 2; }
echo double("3");
