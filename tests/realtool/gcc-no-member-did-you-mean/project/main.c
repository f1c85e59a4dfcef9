struct counter {
	int count;
};

int get(struct counter *c)
{
	return c->coutn;
}
