"""Factories shared across the suite."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.core.roles import Role, user_role_add
from apps.guides.models import Guide
from apps.stores.models import Brand, Region, Store


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pass-word-123")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user_role_add(user, Role(extracted))


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"B{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Brand {o.code}")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Region {o.code}")
    parent = None


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"S{n:05d}")
    name = factory.LazyAttribute(lambda o: f"Store {o.code}")
    kind = Store.Kind.DIRECT
    region = factory.SubFactory(RegionFactory)
    city = "上海"
    latitude = 31.2304
    longitude = 121.4737

    @factory.post_generation
    def brands(store, create, extracted, **kwargs):
        if create and extracted:
            store.brands.set(extracted)


class GuideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guide
        django_get_or_create = ("employee_no",)

    employee_no = factory.Sequence(lambda n: f"E{n:06d}")
    name = factory.Sequence(lambda n: f"Guide {n}")
    phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    store = factory.SubFactory(StoreFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Customer"
        django_get_or_create = ("phone",)

    phone = factory.Sequence(lambda n: f"135{n:08d}")
    name = factory.Sequence(lambda n: f"会员{n}")


class PendingMembershipFactory(factory.django.DjangoModelFactory):
    """A membership as the join API leaves it, before any worker ran."""

    class Meta:
        model = "customers.Membership"

    customer = factory.SubFactory(CustomerFactory)
    brand = factory.SubFactory(BrandFactory)
    source = "h5"
    latitude = 31.2304
    longitude = 121.4737
    joined_at = factory.LazyFunction(timezone.now)


class MembershipFactory(PendingMembershipFactory):
    """A membership bound to a guide of a store, as assignment leaves it."""

    guide = factory.SubFactory(GuideFactory)
    store = factory.LazyAttribute(lambda o: o.guide.store)
    brand = factory.LazyAttribute(lambda o: o.store.brands.first() or BrandFactory())
    assignment_status = "assigned"
    bound_at = factory.LazyFunction(timezone.now)
