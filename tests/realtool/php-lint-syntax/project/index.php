<?php
function greet($name) {
    echo "hi " . $name
}
