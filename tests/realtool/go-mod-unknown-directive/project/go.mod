module example.com/realtool

go 1.19

requir example.com/x v1.0.0
