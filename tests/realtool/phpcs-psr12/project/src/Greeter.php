<?php

namespace App;

class Greeter {
    public function greet($name) { return "hi " . $name; }
}
