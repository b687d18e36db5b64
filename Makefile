.PHONY: install demo test lint
install:
	bash scripts/install.sh
demo:
	bash scripts/demo.sh
test:
	bash scripts/test.sh
lint:
	bash scripts/lint.sh
