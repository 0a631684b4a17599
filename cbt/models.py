"""Every model module, imported once so the metadata (migrations, tests) sees all tables."""

from cbt.admin.models import UserImport
from cbt.audit.models import AuditEvent
from cbt.auth.models import SignInFailure, User, UserSession
from cbt.author.models import CourseGrant, Draft
from cbt.certificates.models import Certificate
from cbt.cohorts.models import Cohort, CohortCourse, CohortMember
from cbt.courses.models import Course, CourseVersion, Lesson, LessonText, MediaAsset, Module, QuestionVersion, Quiz
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.org.models import Agency, Country, Site
from cbt.quiz.models import Attempt, Response
from cbt.reports import models as _report_indexes  # noqa: F401 - indexes on other features' tables

__all__ = [
    "Attempt", "CourseCompletion", "Enrollment", "LessonProgress", "Response",
    "AuditEvent", "Agency", "Country", "Course", "CourseVersion", "Lesson", "LessonText", "MediaAsset", "Module",
    "QuestionVersion", "Quiz", "Site", "User", "UserSession", "Certificate", "UserImport",
    "Cohort", "CohortCourse", "CohortMember", "SignInFailure", "CourseGrant", "Draft",
]
