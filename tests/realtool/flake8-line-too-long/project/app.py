MESSAGE = "this line is deliberately much longer than seventy nine characters for flake8"
