"""Every model module, imported once so the metadata (migrations, tests) sees all tables."""

from cbt.audit.models import AuditEvent
from cbt.auth.models import User, UserSession
from cbt.courses.models import Course, CourseVersion, Lesson, LessonText, MediaAsset, Module, QuestionVersion, Quiz
from cbt.learn.models import CourseCompletion, Enrollment, LessonProgress
from cbt.org.models import Agency, Country, Site
from cbt.quiz.models import Attempt, Response

__all__ = [
    "Attempt", "CourseCompletion", "Enrollment", "LessonProgress", "Response",
    "AuditEvent", "Agency", "Country", "Course", "CourseVersion", "Lesson", "LessonText", "MediaAsset", "Module",
    "QuestionVersion", "Quiz", "Site", "User", "UserSession",
]
