"""One settings module; the environment decides (12-factor, django-environ).

Defaults are the single-machine run: SQLite and a Celery broker on the local file
system, so nothing but Python is needed. At city scale set DATABASE_URL,
CELERY_BROKER_URL and shared MEDIA_ROOT (or object storage) for every process.
"""

import datetime
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

# Everything the single-machine run writes (database, media, broker queue) lives here.
VAR_DIR = Path(env.str("PACKETDESK_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="insecure-dev-key-only-for-the-single-machine-run-" + "x" * 20,
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    # Swagger UI (/api/docs/) and Redoc from our own static files: the CSP allows no other origin.
    "drf_spectacular_sidecar",
    "django_celery_results",
    "axes",
    "csp",
    "records",
    "dedupe",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns repeated failed logins into a lockout.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling: five failures for one user name from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("PACKETDESK_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("PACKETDESK_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

# Content Security Policy: only our own scripts, styles and images; PDFs previewed in a frame
# come from this site too. No inline script is needed by any page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'self'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}

ROOT_URLCONF = "packetdesk.urls"
WSGI_APPLICATION = "packetdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "records.context_processors.office",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker are separate processes writing one file: WAL lets
    # readers and a writer proceed together, IMMEDIATE avoids lock upgrades that fail,
    # and the timeout waits out the other process instead of failing a clerk's upload.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests that use a real worker process need the test database on disk, not in memory.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("PACKETDESK_TEST_SQLITE", default=str(VAR_DIR / "test-db.sqlite3"))
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "records:request-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
# CPRA deadlines are counted in California days.
TIME_ZONE = env.str("PACKETDESK_TIME_ZONE", default="America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

# In development WhiteNoise serves straight from the app folders; production uses collectstatic.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
STORAGES = {
    # Gathered files are content-addressed (see records/blobstore.py); any Django storage
    # backend (e.g. django-storages' S3) can replace this by setting the backend here.
    "default": {
        "BACKEND": env.str(
            "PACKETDESK_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        )
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads larger than this go to a temporary file, never to memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("PACKETDESK_MAX_FILES_PER_UPLOAD", default=2000)

# --- Intake limits (records/services/intake.py) ---
PACKETDESK_MAX_FILE_BYTES = env.int("PACKETDESK_MAX_FILE_BYTES", default=200 * 1024 * 1024)
PACKETDESK_MAX_ZIP_ENTRIES = env.int("PACKETDESK_MAX_ZIP_ENTRIES", default=20_000)
PACKETDESK_MAX_ZIP_TOTAL_BYTES = env.int("PACKETDESK_MAX_ZIP_TOTAL_BYTES", default=8 * 1024 * 1024 * 1024)
# A compression ratio beyond this on a large entry is a ZIP bomb, not a photo.
PACKETDESK_MAX_ZIP_RATIO = env.int("PACKETDESK_MAX_ZIP_RATIO", default=200)

# --- The office ---
PACKETDESK_CITY_NAME = env.str("PACKETDESK_CITY_NAME", default="City of Alameda Vista")
PACKETDESK_OFFICE_NAME = env.str(
    "PACKETDESK_OFFICE_NAME", default="Office of the City Clerk, Public Records Unit"
)
# The title printed beside a clerk's name where the law asks who is responsible (§ 7922.540).
PACKETDESK_STAFF_TITLE = env.str("PACKETDESK_STAFF_TITLE", default="Public Records Analyst")
# Holidays the holidays library lists for California that do not close city offices.
PACKETDESK_IGNORED_HOLIDAYS = env.list("PACKETDESK_IGNORED_HOLIDAYS", default=["Susan B. Anthony Day"])
# Extra closure days (ISO dates) the city declares, e.g. a furlough day.
PACKETDESK_EXTRA_CLOSURES = env.list("PACKETDESK_EXTRA_CLOSURES", default=[])
# What the requester gets for a file nobody could open (records/packet/data.py UnreadableFiles):
# "not_delivered" (it could not be reviewed for exempt content; the office keeps the original)
# or "original_bytes" (delivered as received under a Bates number, marked as not reviewed).
PACKETDESK_UNREADABLE_FILES = env.str("PACKETDESK_UNREADABLE_FILES", default="not_delivered")
if PACKETDESK_UNREADABLE_FILES not in ("not_delivered", "original_bytes"):
    raise ImproperlyConfigured(
        f"PACKETDESK_UNREADABLE_FILES is {PACKETDESK_UNREADABLE_FILES!r}; "
        "use 'not_delivered' or 'original_bytes'."
    )

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = Path(env.str("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's file-system transport: a queue that needs no server, for one machine.
    for sub in ("queue", "processed", "control"):
        (CELERY_BROKER_FOLDER / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        "store_processed": False,
        # kombu polls the folder; its 1 s default would cap a worker at one task a second.
        "polling_interval": 0.05,
    }
# A dedupe chunk whose worker has not reported for this long is sent to another worker.
PACKETDESK_STALLED_CHUNK_SECONDS = env.int("PACKETDESK_STALLED_CHUNK_SECONDS", default=30)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="django-db")
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Run by `celery beat` (the Procfile's beat line); one beat process per deployment.
CELERY_BEAT_SCHEDULE = {
    "deadline-reminders": {
        "task": "records.tasks.send_deadline_reminders",
        # Once each working morning, office time; tasks are reminded at most once a day anyway.
        "schedule": crontab(hour=env.int("PACKETDESK_REMINDER_HOUR", default=7), minute=0),
    },
}

# --- REST framework ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "records.api.authentication.DepartmentTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per department token and per signed-in user; see records/api/throttling.py.
    "DEFAULT_THROTTLE_CLASSES": [
        "records.api.throttling.DepartmentTokenThrottle",
        "records.api.throttling.SessionUserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "department_token": env.str("PACKETDESK_API_TOKEN_RATE", default="1200/min"),
        "session_user": env.str("PACKETDESK_API_USER_RATE", default="600/min"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "records.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PacketDesk API",
    "DESCRIPTION": "Public-records requests, gathered images, duplicate groups and packets.",
    "VERSION": "1.0.0",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One name per choice set, so clients get stable enum names.
    "ENUM_NAME_OVERRIDES": {
        "RequestStatusEnum": "records.models.requests.RequestStatus",
        "ExtensionGroundEnum": "records.models.requests.ExtensionGround",
        "RequesterKindEnum": "records.models.requests.RequesterKind",
        "ItemStatusEnum": "records.models.items.ItemStatus",
        "PacketStateEnum": "records.models.packets.PacketState",
        "RunStateEnum": "dedupe.models.RunState",
        "RunPhaseEnum": "dedupe.models.RunPhase",
        "TaskStateEnum": "records.models.tasking.DepartmentTask.State",
        "UploadPolicyEnum": "records.models.departments.Department.UploadPolicy",
    },
}

# Where links in e-mails point (reminders to clerks and departments).
PACKETDESK_SITE_URL = env.str("PACKETDESK_SITE_URL", default="http://127.0.0.1:8000")
EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="records@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Production hardening (active whenever DEBUG is off) ---
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"  # the PDF preview view alone allows same-origin framing
SESSION_COOKIE_HTTPONLY = True
