const express = require("express-cars-missing");
express();
