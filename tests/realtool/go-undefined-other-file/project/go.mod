module example.com/realtool

go 1.19
