# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8000
# The integration pass against this machine's PostgreSQL and Redis (see tests/integration/).
SERVICES_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/packetdesk \
	CELERY_BROKER_URL=redis://127.0.0.1:6379/15 CELERY_RESULT_BACKEND=django-db

.PHONY: run test install lint unit test-services browser system-packages clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install system-packages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py load_demo
	@echo ""
	@echo "PacketDesk is starting: open http://$(BIND)/ and log in with one of the accounts above."
	@echo "Web server and Celery worker run together below; Ctrl-C stops both."
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" PACKETDESK_BIND=$(BIND) $(VENV)/bin/honcho -f Procfile start

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Debian packages: Tesseract OCR with its English and Spanish data and orientation model
# (the workers read scanned pages), Chromium for the browser tests, poppler's pdftotext and
# pdftoppm for reading PDFs back. A fresh machine has none of them, so install them first.
DEBIAN_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-spa tesseract-ocr-osd chromium poppler-utils
system-packages:
	@if ! dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y --no-install-recommends $(DEBIAN_PACKAGES); \
	fi

unit: install system-packages
	$(PY) manage.py makemigrations --check --dry-run
	PACKETDESK_VAR_DIR=$(CURDIR)/var/test $(PY) -m pytest

# With REQUIRE_SERVICES=1 (CI), unreachable PostgreSQL or Redis is a failure, not a skip.
test-services: install
	@if $(PY) tests/integration/services.py; then \
		PACKETDESK_VAR_DIR=$(CURDIR)/var/test-services $(SERVICES_ENV) $(PY) -m pytest tests/integration -m integration; \
	elif [ "$(REQUIRE_SERVICES)" = "1" ]; then \
		echo "FAILED: REQUIRE_SERVICES=1 but PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not reachable"; \
		exit 1; \
	else \
		echo "SKIPPED: integration tests on PostgreSQL + Redis (services not reachable; set REQUIRE_SERVICES=1 to fail instead)"; \
	fi

test: lint unit test-services

clean:
	rm -rf $(VENV) var
